// Package catalog is the data model of Oyster's catalog, which knows what is
// inside every image in the registry, and the interfaces between its parts,
// with the Budget that bounds what one image may cost it. It holds types
// only; the work happens in its subpackages:
//
//   - scan reads layer and filesystem bytes into facts: package databases,
//     OS release, runtimes, CUDA, merged across layers (no storage).
//   - extract turns what registry storage holds (manifests, configs,
//     layers, SIF files, SBOM referrers) into Records.
//   - state is the bbolt Store of records and the caches behind them.
//   - indexer keeps the Store and the SearchIndex in step with storage:
//     the queue, the journal, the workers and the start-up order.
//   - search is the SearchIndex and the query language.
//   - pkgdb, sbom and version parse package databases, SBOM documents and
//     version strings.
//
// Everything a Record says is derived from storage, the source of truth,
// and can be rebuilt from it.
package catalog
