"""An OAuth-protected MCP server for a Keycloak realm."""
