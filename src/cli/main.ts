import { TaskServiceError } from '../client/errors.js';
import { VERSION } from '../client/version.js';
import { settingsHelp } from '../config/describe.js';
import { COMMANDS, EXIT, type Io } from './commands.js';
import { UsageError } from './options.js';

const USAGE = `Usage: taskservice <command> [options]

  serve                 run the server, configured by environment variables (serve --help lists them)
${Object.values(COMMANDS)
  .map(({ usage }) => `  ${usage}`)
  .join('\n')}

Options of every client command:
  --addr HOST:PORT      the server (default $TASKSERVICE_CLIENT_ADDR or 127.0.0.1:50051)
  --token TOKEN         bearer token (default $TASKSERVICE_TOKEN; the variable keeps it out of ps)
  --user USER_ID        act for this user_id
  --tls, --ca FILE      TLS with the system roots, or with this CA certificate
  --json                machine-readable output (proto3 JSON)

taskservice --version prints the release of this CLI; taskservice version, the server's too.

Exit codes: 0 done, 1 the task failed or is still running, 2 usage error, 3 the call failed.
`;

/** `taskservice <command> ...`: returns the exit code. */
export async function cli(argv: string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out.write(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out.write(`taskservice ${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === 'serve') {
    if (args.includes('--help') || args.includes('-h')) {
      io.out.write(`Usage: taskservice serve\n\n${settingsHelp()}`);
      return EXIT.ok;
    }
    const { serve } = await import('../serve.js');
    await serve();
    return new Promise(() => {}); // serve() exits the process itself on SIGTERM
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err.write(`taskservice: unknown command "${name}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out.write(`Usage: taskservice ${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`taskservice ${name}: ${err.message}\nUsage: taskservice ${command.usage}\n`);
      return EXIT.usage;
    }
    if (err instanceof TaskServiceError) {
      io.err.write(`taskservice ${name}: ${err.message}\n`);
      return EXIT.callFailed;
    }
    throw err;
  }
}
