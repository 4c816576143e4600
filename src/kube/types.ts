/** How steps reach the cluster's Kubernetes API: kubectl through zx, never a shell string. */
export interface KubeSettings {
  kubeconfig?: string;
  context?: string;
}

export interface Kube {
  readonly settings: KubeSettings;
  /** Runs `kubectl <args…> -o json` and parses stdout only. */
  getJson<T = unknown>(args: readonly string[], opts?: { signal?: AbortSignal }): Promise<T>;
  /** Runs kubectl with the given argv; rejects with a RunbookError (KUBECTL_ERROR) on non-zero exit. */
  run(args: readonly string[], opts?: { input?: string; signal?: AbortSignal }): Promise<{ stdout: string; stderr: string }>;
}
