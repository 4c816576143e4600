import type { Shell as ZxShell } from 'zx';

/** zx's `$`, as steps receive it (already quiet, with the run's env and signal). */
export type Shell = ZxShell;
