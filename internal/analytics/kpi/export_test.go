package kpi

// RebuildAllChunked is RebuildAll reading chunk profiles per query, for
// tests of the chunk boundaries.
var RebuildAllChunked = rebuildAll
