// A resource's diff, side by side and unified (owned by the resource panel's work).
export function startDiff(root) {}
