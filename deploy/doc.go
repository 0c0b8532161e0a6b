// Package deploy holds no code: its tests check the deployment files
// beside it (kubernetes/, systemd/, the Dockerfile above) against the
// binaries they run. It is a module of its own so that the Kubernetes API
// types, which its tests decode the manifests into, stay out of the main
// module's dependencies.
package deploy
