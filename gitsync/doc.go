// Package gitsync tracks Git repositories of recipes and keeps their
// images built: webhooks and polling notice pushes, change detection picks
// the recipes a push touched, the base cascade adds the images built on
// them, and a persistent queue runs the builds with the recipes package.
//
// It never parses recipes itself: recipes finds them, says what they are
// based on, and builds them.
package gitsync
