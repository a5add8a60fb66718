// Package recipes finds container recipes in a source tree (Dockerfiles,
// Containerfiles and Apptainer/Singularity definition files), parses them
// into what they declare (base image, labels, packages they install), and
// builds them behind one Builder interface.
//
// It knows nothing of Git, webhooks or the catalog: gitsync hands it a
// checked-out tree and says what to build and where to push.
package recipes
