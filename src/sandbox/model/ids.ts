import type { World } from './types.js';

/** FNV-1a, spread to 64 bits of hex: ids look like AWS's and depend only on the seed text. */
export function hashHex(text: string, length: number): string {
  let out = '';
  let salt = 0;
  while (out.length < length) {
    let h = 0x811c9dc5;
    const s = `${text}|${salt}`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    out += (h >>> 0).toString(16).padStart(8, '0');
    salt++;
  }
  return out.slice(0, length);
}

/** A fresh deterministic hex id: the world's counter makes ids differ, the scenario name keeps them stable. */
export function freshHex(world: World, length: number): string {
  world.seq += 1;
  return hashHex(`${world.scenario}#${world.seq}`, length);
}

export function uuidFrom(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-4${hex32.slice(13, 16)}-a${hex32.slice(17, 20)}-${hex32.slice(20, 32)}`;
}

export function freshUuid(world: World): string {
  return uuidFrom(freshHex(world, 32));
}
