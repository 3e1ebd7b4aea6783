package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lazyflow/lazyflow/functions/uiproxy"
)

// defaultUIAddr is beside `lazyflow serve`'s 8080, so both can run at once.
const defaultUIAddr = "127.0.0.1:8081"

// cmdUI serves the browser UI of a deployed stack on localhost: lazyflow ui
// --api URL [--addr A] [--profile P] [--region R]. The page's API calls are
// signed here with the caller's AWS credentials (the default chain), which
// never reach the browser.
func cmdUI(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	api := fs.String("api", "", "the deployed API's `URL` (the stack's ApiUrl output)")
	addr := fs.String("addr", defaultUIAddr, "`HOST:PORT` to listen on")
	profile := fs.String("profile", "", "AWS `profile` whose credentials sign the API calls (default: the default chain)")
	region := fs.String("region", "", "`region` to sign for (default: from the API's host name, else the profile's)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 0 {
		return exitUsage, usageError{"ui takes no arguments"}
	}
	if *api == "" {
		return exitUsage, usageError{"ui needs --api https://ID.execute-api.REGION.amazonaws.com"}
	}
	_, hostRegion, err := uiproxy.ParseAPI(*api)
	if err != nil {
		return exitUsage, usageError{"--api: " + err.Error()}
	}
	var opts []func(*config.LoadOptions) error
	if *profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return exitFailure, fmt.Errorf("load AWS configuration: %w", err)
	}
	signFor := *region
	if signFor == "" {
		signFor = hostRegion
	}
	if signFor == "" {
		signFor = cfg.Region
	}
	if signFor == "" {
		return exitUsage, usageError{fmt.Sprintf("--api %s: the host names no region and the AWS configuration has none; give --region", *api)}
	}
	log := jsonLogger(stderr, envLogLevel())
	h, err := uiproxy.New(uiproxy.Options{API: *api, Region: signFor, Credentials: cfg.Credentials, Log: log})
	if err != nil {
		return exitUsage, usageError{"--api: " + err.Error()}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return exitFailure, fmt.Errorf("no AWS credentials to sign the API calls with (set a profile with --profile or AWS_PROFILE): %w", err)
	}
	ready := func(url string) {
		fmt.Fprintf(stdout, "lazyflow: the UI of %s is at %s (API calls signed for %s); Ctrl-C stops\n", *api, url, signFor)
	}
	if err := uiproxy.Serve(ctx, *addr, h, log, ready); err != nil {
		return exitFailure, err
	}
	return exitOK, nil
}
