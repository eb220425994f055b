/**
 * The real Terraform on terraform/: `terraform fmt -check -recursive`, then `terraform init -backend=false`
 * and `terraform validate` in every environment (terraform/envs/*), offline: providers come only from a
 * filesystem mirror of hashicorp/aws (the image's /opt/tf-plugins), through a CLI configuration written for
 * the run. Everything runs on a copy in a temporary directory (with its own TF_DATA_DIR), so neither
 * .terraform/ nor .terraform.lock.hcl is ever written into the repository.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where machines of this project keep the offline provider mirror; TF_PLUGIN_MIRROR overrides it. */
export const DEFAULT_MIRROR = '/opt/tf-plugins';
const AWS_PROVIDER = 'registry.terraform.io/hashicorp/aws';

/** Terraform's platform name for this machine, e.g. linux_amd64. */
function platform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' }[process.arch as string] ?? process.arch;
  return `${process.platform}_${arch}`;
}

export interface TerraformTooling {
  binary: string;
  mirror: string;
  version: string;
}

/**
 * The terraform binary on PATH and a mirror holding hashicorp/aws for this platform, or the reason one of
 * them is missing (the caller skips, loudly).
 */
export async function findTerraformTooling(): Promise<TerraformTooling | { missing: string }> {
  let version: string;
  try {
    const { stdout } = await run('terraform', ['version', '-json'], { env: cleanEnv() });
    version = (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
  } catch (error) {
    return { missing: `the terraform binary is not on PATH (${(error as Error).message.split('\n')[0]})` };
  }
  const mirror = process.env.TF_PLUGIN_MIRROR ?? DEFAULT_MIRROR;
  const providerDir = path.join(mirror, AWS_PROVIDER);
  const versions = existsSync(providerDir) ? readdirSync(providerDir) : [];
  if (!versions.some((v) => existsSync(path.join(providerDir, v, platform())))) {
    return { missing: `no ${AWS_PROVIDER} for ${platform()} in the provider mirror ${mirror} (set TF_PLUGIN_MIRROR)` };
  }
  return { binary: 'terraform', mirror, version };
}

/** Only hashicorp/aws, only from the mirror: a configuration that needs anything else fails init offline. */
export function cliConfig(mirror: string): string {
  return `provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirror)}
    include = ["${AWS_PROVIDER}"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
`;
}

/** The caller's environment without its Terraform settings (this machine sets TF_CLI_CONFIG_FILE globally). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TF_')));
  return { ...env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', ...extra };
}

interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number } };
}

export interface TerraformValidation {
  /** Files `terraform fmt -check` would rewrite. */
  format: string[];
  /** Per environment: init failures and validate errors, as Terraform words them. */
  environments: Record<string, string[]>;
}

async function terraform(tooling: TerraformTooling, cwd: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(tooling.binary, args, { cwd, env: cleanEnv(env), maxBuffer: 64 << 20 });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout, stderr };
  }
}

/**
 * fmt and init + validate of every environment of a copy of `terraformRoot`. `environments` limits the
 * run to some of them (default: every directory under envs/).
 */
export async function validateTerraform(
  terraformRoot: string,
  tooling: TerraformTooling,
  environments?: string[],
): Promise<TerraformValidation> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'callgate-terraform-'));
  try {
    const copy = path.join(work, 'terraform');
    cpSync(terraformRoot, copy, {
      recursive: true,
      filter: (src) => !/(^|\/)(\.terraform|\.terraform\.lock\.hcl|terraform\.tfstate[^/]*)$/.test(src),
    });
    const cliFile = path.join(work, 'terraform.tfrc');
    writeFileSync(cliFile, cliConfig(tooling.mirror));

    const fmt = await terraform(tooling, copy, ['fmt', '-check', '-recursive', '-list=true', '-no-color'], {});
    const format = fmt.ok ? [] : `${fmt.stdout}${fmt.stderr}`.trim().split('\n').filter(Boolean);

    const names = environments ?? readdirSync(path.join(copy, 'envs')).sort();
    const results: Record<string, string[]> = {};
    for (const name of names) {
      const dir = path.join(copy, 'envs', name);
      const env = { TF_CLI_CONFIG_FILE: cliFile, TF_DATA_DIR: path.join(work, `data-${name}`) };
      const init = await terraform(tooling, dir, ['init', '-backend=false', '-input=false', '-no-color'], env);
      if (!init.ok) {
        results[name] = [`terraform init failed:\n${init.stdout}${init.stderr}`.trim()];
        continue;
      }
      const validate = await terraform(tooling, dir, ['validate', '-json', '-no-color'], env);
      results[name] = diagnostics(validate.stdout, validate.stderr, dir, copy);
      if (!validate.ok && results[name].length === 0) results[name] = [`terraform validate failed: ${validate.stderr}`];
    }
    return { format, environments: results };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** validate -json diagnostics as "file:line: summary: detail", paths relative to the terraform/ root. */
function diagnostics(stdout: string, stderr: string, dir: string, copy: string): string[] {
  let parsed: { valid?: boolean; diagnostics?: Diagnostic[] };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return [`terraform validate printed no JSON: ${stdout}${stderr}`];
  }
  return (parsed.diagnostics ?? [])
    .filter((d) => d.severity === 'error')
    .map((d) => {
      const where = d.range
        ? `${path.relative(copy, path.resolve(dir, d.range.filename))}:${d.range.start.line}: `
        : '';
      return `${where}${d.summary}${d.detail ? `: ${d.detail}` : ''}`;
    });
}
