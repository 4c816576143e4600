import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A kubeconfig with one context per sandbox cluster, the first one current. The server URL
 * carries the cluster's path prefix (/k8s/<name>); any bearer token is accepted.
 */
export function kubeconfigYaml(endpoint: string, clusters: string[], region: string, accountId: string): string {
  const arn = (c: string): string => `arn:aws:eks:${region}:${accountId}:cluster/${c}`;
  const lines = ['apiVersion: v1', 'kind: Config', 'preferences: {}', `current-context: ${JSON.stringify(arn(clusters[0] ?? ''))}`, 'clusters:'];
  for (const c of clusters) lines.push(`- name: ${JSON.stringify(arn(c))}`, '  cluster:', `    server: ${JSON.stringify(`${endpoint}/k8s/${encodeURIComponent(c)}`)}`);
  lines.push('contexts:');
  for (const c of clusters) lines.push(`- name: ${JSON.stringify(arn(c))}`, '  context:', `    cluster: ${JSON.stringify(arn(c))}`, `    user: sandbox`);
  lines.push('users:', '- name: sandbox', '  user:', '    token: sandbox-token', '');
  return lines.join('\n');
}

export async function writeKubeconfig(dir: string, yaml: string): Promise<string> {
  const path = join(dir, 'kubeconfig');
  await writeFile(path, yaml, { mode: 0o600 });
  return path;
}
