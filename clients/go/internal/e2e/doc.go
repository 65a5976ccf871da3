// Package e2e has no code of its own: its tests run package taskservice and
// package worker together against the real TypeScript server, started from
// the checkout this module sits in (node --import tsx src/main.ts). Outside a
// checkout they are skipped.
package e2e
