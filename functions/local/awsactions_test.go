package local_test

import (
	"fmt"
	"strings"
	"testing"
)

// lazyflow serve provides the aws.* actions when the environment names an
// AWS region (the calls then use the default credential chain), and says
// at registration that it does not provide them otherwise.
func TestServeRegistersAWSActionsWithARegion(t *testing.T) {
	const wf = "version: '2.0'\nnotify:\n  tasks:\n    send:\n      action: aws.sqs.send_message queue_url=q\n"
	for _, region := range []string{"", "eu-west-1"} {
		t.Setenv("AWS_REGION", region)
		t.Setenv("AWS_DEFAULT_REGION", "")
		s := start(t, t.TempDir(), nil)
		code, out := s.call("POST", "/workflows", "text/yaml", wf)
		msg := fmt.Sprint(out)
		want := "without its required input"
		if region == "" {
			want = "which this host does not provide"
		}
		if code != 400 || !strings.Contains(msg, want) {
			t.Errorf("AWS_REGION=%q: want 400 saying %q, got %d %s", region, want, code, msg)
		}
		s.stop()
	}
}
