/**
 * The command table. Each concept adds its commands here from its own module
 * under src/cli/.
 */
import type { Command } from './command.js';
import { photocalibCommands } from './photocalib.js';
import { catalogCommands } from './catalogCommands.js';

export const commands: Command[] = [...photocalibCommands, ...catalogCommands];
