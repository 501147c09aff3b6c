import { runSimulator } from './run-simulator.js';
import { parseSimulatorArgs, SimulatorUsageError, USAGE } from './simulator-options.js';

/** `npm run simulate -- …`: parses the command line, runs the fleet, stops it cleanly on SIGINT/SIGTERM. */
function commandLine() {
  try {
    return parseSimulatorArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof SimulatorUsageError)) throw error;
    process.stderr.write(`simulator: ${error.message}\nRun with --help for the options.\n`);
    process.exit(2);
  }
}

const parsed = commandLine();
if (parsed.help) {
  process.stdout.write(USAGE);
} else {
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`\n${name} again: exiting without waiting for the devices to disconnect\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${name}: stopping (press Ctrl-C again to quit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runSimulator(parsed.options, { signal: stop.signal });
  } catch (error) {
    process.stderr.write(`simulator: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
