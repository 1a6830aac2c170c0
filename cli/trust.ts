// The CAs registries are checked against, made Node's default for this process so every TLS
// connection to a registry uses them: Node's bundled roots, the system's store (where an operator
// installs a company CA), $NODE_EXTRA_CA_CERTS, the router's own CA bundle, and --ca-file.
// The API server keeps the CA of the kubeconfig (client-node passes its own).
import { readFile } from 'node:fs/promises';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { errorMessage } from '#shared/errors.ts';
import { CliError } from './errors.ts';

/** PEM blocks of a bundle (a file may hold several CAs). Pure. */
export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export async function readCaFiles(files: readonly string[]): Promise<{ source: string; pem: string }[]> {
  return await Promise.all(
    files.map(async (file) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new CliError(
          `cannot read --ca-file ${file} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}): check the path`,
        );
      }
      if (pemBlocks(text).length === 0)
        throw new CliError(`--ca-file ${file} holds no PEM certificate: give the CA's .crt/.pem file`);
      return { source: `--ca-file ${file}`, pem: text };
    }),
  );
}

/** Trust `extra` on top of the bundled, system and NODE_EXTRA_CA_CERTS roots. */
export function trustCAs(extra: readonly { pem: string }[]): void {
  let system: string[] = [];
  try {
    system = getCACertificates('system');
  } catch {
    // No readable system store (minimal containers): the bundled roots still apply.
  }
  const certs = [...getCACertificates('default'), ...system, ...extra.flatMap((e) => pemBlocks(e.pem))];
  try {
    setDefaultCACertificates([...new Set(certs)]);
  } catch (err) {
    throw new CliError(
      `a CA given to kuik is not a valid certificate (${errorMessage(err)}): check --ca-file`,
    );
  }
}
