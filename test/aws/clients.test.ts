// What an operator sees when AWS is not set up: one AWS_CREDENTIALS error that says what to do.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { isRunbookError } from '../../src/errors.js';

describe('createAwsClients', () => {
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    // An empty AWS config so the default chain finds nothing on this machine.
    dir = await mkdtemp(join(tmpdir(), 'aws-config-'));
    await writeFile(join(dir, 'config'), '[default]\n');
    await writeFile(join(dir, 'credentials'), '');
    process.env['AWS_CONFIG_FILE'] = join(dir, 'config');
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'credentials');
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']) delete process.env[k];
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  });

  afterAll(async () => {
    process.env = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it('builds each client once, on first use', async () => {
    const aws = createAwsClients({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(await aws.eks()).toBe(await aws.eks());
    expect(await aws.elbv2()).toBe(await aws.elbv2());
    expect(await aws.eks()).not.toBe(await aws.elbv2());
  });

  it('an unknown --profile is an AWS_CREDENTIALS error with a hint', async () => {
    const sts = await createAwsClients({ region: 'eu-west-1', profile: 'no-such-profile', endpoint: 'http://127.0.0.1:9' }).sts();
    const err: unknown = await sts.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(isRunbookError(err) && err.code).toBe('AWS_CREDENTIALS');
    expect(isRunbookError(err) && err.hint).toMatch(/--profile/);
  });

  it('no credentials anywhere is an AWS_CREDENTIALS error, not a stack trace', async () => {
    const sts = await createAwsClients({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }).sts();
    const err: unknown = await sts.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(isRunbookError(err) && err.code).toBe('AWS_CREDENTIALS');
  });

  it('no region anywhere is an AWS_CREDENTIALS error saying to pass --region', async () => {
    delete process.env['AWS_REGION'];
    delete process.env['AWS_DEFAULT_REGION'];
    const eks = await createAwsClients({ region: '', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).eks();
    const { ListClustersCommand } = await import('@aws-sdk/client-eks');
    const err: unknown = await eks.send(new ListClustersCommand({})).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AWS_CREDENTIALS', hint: expect.stringMatching(/--region/) as unknown });
  });
});
