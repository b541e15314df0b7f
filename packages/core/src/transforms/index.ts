// Pure transforms over profiles: merge, tree, truncate, diff, top table, sandwich, focus, filter, flamebearer.
export {};
