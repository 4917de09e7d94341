// The `peerpbx` command line's definition (DESIGN.md, "Headless command line"). Every bad input ends in ONE line
// on stderr and a non-zero exit: scripts and tests read it, so no stack traces or help dumps.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  ConfigError,
  DEFAULTS,
  type HostPort,
  parseHost,
  parseHostPort,
  parsePort,
  parseWavFile,
} from '../config.ts';
import { NoRunningPeer } from '../control/client.ts';
import { JoinError } from '../enrollment/join.ts';
import { IdentityError } from '../identity/identity.ts';
import { createLogger } from '../log.ts';
import { DeskPhoneAccountError } from '../office/desk-phone-accounts.ts';
import {
  approveCommand,
  createCommand,
  denyCommand,
  inviteCommand,
  joinCommand,
  lookupCommand,
  requestsCommand,
  statusCommand,
} from './office-commands.ts';
import { phoneAddCommand } from './phone-commands.ts';
import { runPeer } from './run.ts';
import {
  greetingCommand,
  markCommand,
  pinCommand,
  VoicemailError,
  voicemailExportCommand,
  voicemailListCommand,
} from './voicemail-commands.ts';

/** Thrown by commands that exist on the card but not yet in the code. */
class NotAvailable extends Error {}

function flag<T>(what: string, parse: (v: string, what: string) => T) {
  return (value: string): T => {
    try {
      return parse(value, what);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(`${what}: `, ''));
    }
  };
}

const port = (what: string) => flag(what, (v, w) => parsePort(v, w));
const collectPeer = (value: string, prev: HostPort[] = []): HostPort[] => [
  ...prev,
  flag('--peer', parseHostPort)(value),
];

const USAGE = `
Environment: PEERPBX_PASSPHRASE (admin passphrase: office create, and \`run\` on the admin PC to
enroll PCs), PEERPBX_DISCOVERY=off|mdns|broadcast (default both). The admin peer takes enrollment
requests on its overlay port + 1.

Commands in full:
  peerpbx office create --data DIR --name NAME --extension EXT [--display-name N] [--passphrase P]
  peerpbx office invite --data DIR --extension EXT          prints a one-time join code
  peerpbx office requests --data DIR [--json]                join requests awaiting approval (admin)
  peerpbx office approve|deny --data DIR --request ID
  peerpbx join   --data DIR --extension EXT --code CODE [--peer HOST:PORT] [--display-name N]
                 (without --code: waits until the admin approves)
  peerpbx run    --data DIR [--bind ADDR] [--sip-port N] [--overlay-port N] [--http-port N] [--peer HOST:PORT]...
                 [--auto-answer] [--play FILE.wav] [--record DIR]
                 (in an office: the registrar/proxy for desk phones on --sip-port, this user's phone)
  peerpbx phone add --data DIR --extension EXT --password PW   (stored as digest HA1; a running peer serves it at once)
  peerpbx status --data DIR [--json]
  peerpbx lookup --data DIR --extension EXT [--json]
  peerpbx voicemail list --data DIR [--json]
  peerpbx voicemail export --data DIR ID FILE.wav
  peerpbx voicemail heard|delete --data DIR ID
  peerpbx voicemail greeting --data DIR --kind unavailable|busy FILE.wav|--remove   (WAV, at most 512 KiB)
  peerpbx voicemail pin --data DIR PIN                      (4 to 12 digits, for *97 on desk phones)
`;

export function buildProgram(): Command {
  const program = new Command('peerpbx')
    .description('PeerPBX: the office phone system with no server (headless peer and tools)')
    .showSuggestionAfterError(true)
    .addHelpText('after', USAGE);

  const data = () => new Option('--data <dir>', 'data folder of this peer').makeOptionMandatory();

  const office = program.command('office').description('create an office or invite a PC into it');
  office
    .command('create')
    .description('create a new office: its CA and the first member')
    .addOption(data())
    .requiredOption('--name <name>', 'office name')
    .requiredOption('--extension <ext>', 'extension of this PC')
    .option('--display-name <name>', 'display name of the user')
    .option(
      '--passphrase <p>',
      'admin passphrase protecting the office CA key (else $PEERPBX_PASSPHRASE, else one is generated and printed once)',
    )
    .action(createCommand);
  office
    .command('invite')
    .description('print a one-time join code for a new PC (the code is the last word)')
    .addOption(data())
    .requiredOption('--extension <ext>', 'extension the new PC will get')
    .action(inviteCommand);
  office
    .command('requests')
    .description('join requests waiting for approval on the running admin peer')
    .addOption(data())
    .option('--json', 'print JSON')
    .action(requestsCommand);
  office
    .command('approve')
    .description('approve a waiting join request (the PC gets its certificate)')
    .addOption(data())
    .requiredOption('--request <id>', 'id shown by `office requests`')
    .action(approveCommand);
  office
    .command('deny')
    .description('deny a waiting join request')
    .addOption(data())
    .requiredOption('--request <id>', 'id shown by `office requests`')
    .action(denyCommand);

  program
    .command('join')
    .description('join an existing office with a join code (without one: wait for the admin to approve)')
    .addOption(data())
    .requiredOption('--extension <ext>', 'extension of this PC')
    .option('--code <code>', 'one-time join code from `office invite`')
    .option('--peer <host:port>', 'a running peer of the office (else found by mDNS)', collectPeer, [])
    .option('--display-name <name>', 'display name of the user')
    .action(joinCommand);

  program
    .command('run')
    .description('run the peer: SIP on UDP and TCP, overlay, HTTP UI bridge')
    .addOption(data())
    .option('--bind <addr>', 'address to listen on', flag('--bind', parseHost), DEFAULTS.bind)
    .option(
      '--sip-port <n>',
      'SIP port, UDP and TCP (0 = any free port)',
      port('--sip-port'),
      DEFAULTS.sipPort,
    )
    .option('--overlay-port <n>', 'overlay port', port('--overlay-port'), DEFAULTS.overlayPort)
    .option(
      '--http-port <n>',
      `serve the UI on http://127.0.0.1:N (0 = any free port; e.g. ${DEFAULTS.httpPort}); no UI without it`,
      port('--http-port'),
    )
    .option('--peer <host:port>', 'a peer to join through; repeatable', collectPeer, [])
    .option('--auto-answer', "answer this user's calls automatically (tests, appliances)")
    .option('--play <file.wav>', 'play this WAV file to every call (looping)', flag('--play', parseWavFile))
    .option('--record <dir>', "write each call's received audio as a WAV file in this folder")
    .action(async (o) => {
      const code = await runPeer(
        {
          dataDir: o.data,
          bind: o.bind,
          sipPort: o.sipPort,
          overlayPort: o.overlayPort,
          httpPort: o.httpPort,
          peers: o.peer,
        },
        { autoAnswer: o.autoAnswer === true, play: o.play, record: o.record },
      );
      process.exitCode = code;
    });

  const phone = program.command('phone').description('desk-phone accounts served by this peer');
  phone
    .command('add')
    .description('add a desk-phone account (works whether or not the peer runs)')
    .addOption(data())
    .requiredOption('--extension <ext>', 'extension of the phone')
    .requiredOption('--password <pw>', 'digest password of the phone')
    .action(phoneAddCommand);

  program
    .command('status')
    .description('the office as this peer sees it')
    .addOption(data())
    .option('--json', 'print JSON')
    .action(statusCommand);

  program
    .command('lookup')
    .description('find where an extension is reachable (exit 1 when it is not)')
    .addOption(data())
    .requiredOption('--extension <ext>', 'extension to look up')
    .option('--json', 'print JSON')
    .action(lookupCommand);

  const vm = program.command('voicemail').description('voicemail of this peer’s user');
  vm.command('list')
    .description('list messages (JSON array with id, from, time, duration, heard)')
    .addOption(data())
    .option('--json', 'print JSON')
    .action(voicemailListCommand);
  vm.command('export')
    .description('write one message as a WAV file')
    .addOption(data())
    .argument('<id>', 'message id')
    .argument('<file>', 'output .wav file')
    .action(voicemailExportCommand);
  vm.command('heard')
    .description('mark a message heard (on every copy)')
    .addOption(data())
    .argument('<id>', 'message id')
    .action(markCommand('voicemail-heard'));
  vm.command('delete')
    .description('delete a message (on every copy)')
    .addOption(data())
    .argument('<id>', 'message id')
    .action(markCommand('voicemail-delete'));
  vm.command('greeting')
    .description('store (or remove) the greeting callers hear when unavailable or busy')
    .addOption(data())
    .requiredOption('--kind <kind>', 'unavailable or busy')
    .option('--remove', 'remove the greeting (callers hear the default)')
    .argument('[file]', 'greeting .wav file (at most 512 KiB)')
    .action(greetingCommand);
  vm.command('pin')
    .description('set the voicemail PIN desk phones enter after dialing *97')
    .addOption(data())
    .argument('<pin>', '4 to 12 digits')
    .action(pinCommand);

  // Errors as one line, never the help text after them; exits are ours to decide.
  const quiet = (cmd: Command) => {
    cmd
      .exitOverride()
      .configureOutput({ outputError: (s, write) => write(`peerpbx: ${s.trim().split('\n')[0]}\n`) });
    cmd.showHelpAfterError(false);
    for (const sub of cmd.commands) quiet(sub);
  };
  quiet(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return 1;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; errors were already printed as one line.
      return err.exitCode;
    }
    if (
      err instanceof IdentityError ||
      err instanceof JoinError ||
      err instanceof DeskPhoneAccountError ||
      err instanceof VoicemailError
    ) {
      process.stderr.write(`peerpbx: ${err.message}\n`);
      return 1;
    }
    if (err instanceof NoRunningPeer) {
      process.stderr.write(`peerpbx: ${err.message}\n`);
      return 3;
    }
    if (err instanceof NotAvailable || err instanceof ConfigError) {
      process.stderr.write(`peerpbx: ${err.message}\n`);
      return 2;
    }
    createLogger({ component: 'cli' }).error('command failed', { err });
    process.stderr.write(`peerpbx: ${(err as Error).message}\n`);
    return 1;
  }
}
