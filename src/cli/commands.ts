/**
 * The command table. Each concept adds its commands here from its own module
 * under src/cli/.
 */
import type { Command } from './command.js';
import { photocalibCommands } from './photocalib.js';
import { repoCommands } from './repo.js';

export const commands: Command[] = [...photocalibCommands, ...repoCommands];
