/**
 * The command table. Each concept adds its commands here from its own module
 * under src/cli/.
 */
import type { Command } from './command.js';
import { benchWcsCommand } from './benchWcs.js';
import { photocalibCommands } from './photocalib.js';
import { plotDistortion } from './plot.js';
import { pix2skyCommand, sky2pixCommand, wcsFitInverseCommand, wcsInfoCommand } from './wcs.js';
import { catalogCommands } from './catalogCommands.js';
import { repoCommands } from './repo.js';
import { recomputeCommands } from './recompute.js';
import { demoCommand } from './demo.js';
import { serveCommand } from './serve.js';

export const commands: Command[] = [
  pix2skyCommand,
  sky2pixCommand,
  wcsInfoCommand,
  wcsFitInverseCommand,
  benchWcsCommand,
  ...photocalibCommands,
  plotDistortion,
  ...catalogCommands,
  ...repoCommands,
  ...recomputeCommands,
  demoCommand,
  serveCommand,
];
