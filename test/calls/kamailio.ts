// A throwaway Kamailio (registrar + stateful proxy, usrloc in memory) for the trunk tests and the
// call benchmark: config written to a temp folder at run time, checked with `kamailio -c`, run in
// the foreground (-DD -E) so killAll() reaps it. Requests for users not registered here go to
// `fallback` (the office's gateway peer: the trunk delivers DIDs there, sip:DID@gateway) or 404.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/processes.ts';

export function haveKamailio(): boolean {
  return spawnSync('kamailio', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** Calls from `from` (host:port, the office gateway) must authenticate with this password. */
export interface TrunkAuth {
  from: string;
  password: string;
}

export function kamailioConfig(port: number, fallback?: string, auth?: TrunkAuth): string {
  const [authHost, authPort] = auth ? auth.from.split(':') : ['', ''];
  const challenge = auth
    ? `if ($si == "${authHost}" && $sp == ${authPort} && !pv_proxy_authenticate("trunk", "${auth.password}", "0")) { proxy_challenge("trunk", "0"); exit; }`
    : '';
  const notFound = fallback
    ? `rewritehostport("${fallback}"); record_route(); t_relay(); exit;`
    : `sl_send_reply("404", "Not Found"); exit;`;
  return `#!KAMAILIO
debug=0
log_stderror=yes
children=2
listen=udp:127.0.0.1:${port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK") && t_check_trans()) { t_relay(); }
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (is_method("REGISTER")) { save("location"); exit; }
  ${challenge}
  if (!lookup("location")) { ${notFound} }
  record_route();
  t_relay();
}
`;
}

export interface KamailioProcess {
  dir: string;
  /** SIGTERM to its process group (main + workers), SIGKILL after 2 s; resolves when gone. */
  stop(): Promise<void>;
}

const groups = new Set<number>();
// Workers outlive a SIGKILLed main process: reap whole groups even if a test run dies.
process.once('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});

/** Starts Kamailio on 127.0.0.1:port in its own process group; resolves once it had a second to bind. */
export async function startKamailio(
  port: number,
  fallback?: string,
  auth?: TrunkAuth,
): Promise<KamailioProcess> {
  const dir = tempDir('kamailio-');
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig(port, fallback, auth));
  const check = spawnSync('kamailio', ['-c', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio.cfg refused: ${check.stderr.slice(-2000)}`);
  const log = openSync(join(dir, 'kamailio.log'), 'a');
  const child = spawn(
    'kamailio',
    ['-f', cfg, '-DD', '-E', '-m', '64', '-M', '8', '-w', dir, '-P', join(dir, 'k.pid')],
    {
      detached: true,
      stdio: ['ignore', log, log],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('kamailio did not start');
  groups.add(pid);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1000));
  return {
    dir,
    async stop() {
      if (!groups.delete(pid)) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }, 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
