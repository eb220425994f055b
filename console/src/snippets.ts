/** Copy-paste setups, filled with this deployment's MCP URL: each client signs in on its own. */
export function snippets(mcpUrl: string): { client: string; where: string; text: string }[] {
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    { client: 'Claude Code', where: 'In a terminal', text: `claude mcp add --transport http callgate ${mcpUrl}` },
    {
      client: 'Claude Desktop',
      where: 'claude_desktop_config.json (through the mcp-remote bridge, which opens the sign-in page)',
      text: json({ mcpServers: { callgate: { command: 'npx', args: ['-y', 'mcp-remote', mcpUrl] } } }),
    },
    { client: 'Cursor', where: '~/.cursor/mcp.json', text: json({ mcpServers: { callgate: { url: mcpUrl } } }) },
    {
      client: 'VS Code',
      where: '.vscode/mcp.json',
      text: json({ servers: { callgate: { type: 'http', url: mcpUrl } } }),
    },
    {
      client: 'MCP Inspector',
      where: 'In a terminal (Node.js 22 or later); choose Streamable HTTP and connect',
      text: `npx @modelcontextprotocol/inspector --transport http --server-url ${mcpUrl}`,
    },
  ];
}
