// The application's resource tree as a graph (owned by the tree's page work; see application.html).
export function startTree(root) {}
