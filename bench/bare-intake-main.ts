// The baseline intake as a process of its own, for the intake benchmark's "own process" placement:
// `node --import tsx bench/bare-intake-main.ts '<BareIntakeOptions as JSON>'`. Stops on SIGTERM.
import { type BareIntakeOptions, startBareIntake } from './bare-intake.ts';

const intake = await startBareIntake(JSON.parse(process.argv[2] ?? '{}') as BareIntakeOptions);
process.once('SIGTERM', () => {
  void intake.close().then(() => process.exit(0));
});
