// Entry point: configuration from the environment, then serve until SIGINT or SIGTERM.

import { createApp, listTools } from "./app.js";
import { verifier } from "./auth.js";
import { ConfigError, loadConfig } from "./config.js";
import { ToolScopes, unofferedScopeWarnings } from "./scopes.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const tools = new ToolScopes(await listTools());
  // A scope the realm does not offer this server is a tool no client can call: say so, but start.
  for (const warning of unofferedScopeWarnings(config, tools)) {
    console.error(warning);
  }
  const app = createApp(config, verifier(config), tools);
  const listener = app.listen(config.port, config.host, () => {
    console.error(`MCP endpoint ${config.resourceUrl}, tokens from ${config.realmUrl}`);
  });
  listener.on("error", (error) => {
    console.error(`error: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  const stop = () => listener.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
