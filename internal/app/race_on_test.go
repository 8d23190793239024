//go:build race

package app

// raceDetector reports a build with the race detector, whose shadow memory inflates the
// process's RSS several times over.
const raceDetector = true
