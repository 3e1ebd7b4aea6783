// Package mistralclient is the client test tier: the real python-mistralclient
// (pinned in requirements.txt, installed by install.sh into .tools/) drives
// `lazyflow serve` through Mistral's REST API v2, with its `mistral` command
// and its Python API. `make test-mistralclient` (part of `make test`) installs
// the client and runs the tests, which build with the mistralclient tag.
package mistralclient
