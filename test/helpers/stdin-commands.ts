/**
 * The JSON-line command loop shared by the fixture peer processes: one request object per stdin
 * line, one answer per request on stdout (echoing its id), and shutdown when stdin closes (the
 * parent test went away).
 */
import { createInterface } from 'node:readline';

export type CommandRequest = { id: number; op: string } & Record<string, unknown>;

export function serveStdinCommands(
  handle: (req: CommandRequest) => Promise<Record<string, unknown>>,
  // Each fixture keeps its own output format (some stamp a time on every line).
  out: (obj: Record<string, unknown>) => void,
  onClose: () => void,
): void {
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      let req: CommandRequest;
      try {
        req = JSON.parse(line) as CommandRequest;
      } catch {
        out({ ok: false, reason: 'not JSON' });
        return;
      }
      handle(req).then(
        (r) => out({ id: req.id, ok: true, ...r }),
        (e: unknown) => out({ id: req.id, ok: false, reason: e instanceof Error ? e.message : String(e) }),
      );
    })
    .on('close', onClose);
}
