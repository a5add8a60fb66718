// Package depcheck holds the test that keeps Oyster's imports pointing one
// way (docs in depcheck_test.go): cmd → server → {web, catalog/…,
// referrers, …} → oci. It has no code of its own.
package depcheck
