export { extractShellFacts, sessionFacts, MAX_COMMAND_LENGTH, MAX_SHELL_BODIES, MAX_SHELL_DEPTH } from "./extract.js";
