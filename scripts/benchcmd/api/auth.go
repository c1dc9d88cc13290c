package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
	"github.com/hometime-edu/hometime/scripts/benchkit/benchapi"
)

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// checkMe makes sure GET /v1/me answers for the right parent before it is
// timed, so a benchmark of 401s is caught here rather than reported.
func checkMe(ctx context.Context, baseURL, token, parentID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v1/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("check /v1/me: %w", err)
	}
	defer resp.Body.Close()
	var me struct {
		ID       string `json:"id"`
		Children []struct {
			ID string `json:"id"`
		} `json:"children"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check /v1/me: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		return fmt.Errorf("check /v1/me: %w", err)
	}
	if me.ID != parentID || len(me.Children) != 2 {
		return fmt.Errorf("check /v1/me: got parent %q with %d children, want %q with 2", me.ID, len(me.Children), parentID)
	}
	return nil
}

// timedLogins signs each family in once, conns at a time, and times every
// sign-in. Each is a different account, so no per-account state (throttle,
// session list) carries from one to the next.
func timedLogins(ctx context.Context, baseURL string, fams []family, conns int) (benchkit.Result, error) {
	bodies := make([][]byte, len(fams))
	for i, f := range fams {
		bodies[i] = benchapi.LoginBody(f.email, benchPassword)
	}
	var next atomic.Int64
	load := benchkit.Closed{Workers: conns, Count: int64(len(fams))}
	return load.RunHTTP(ctx, func(int, int64) benchkit.Request {
		i := (next.Add(1) - 1) % int64(len(bodies))
		return benchkit.Request{Method: http.MethodPost, URL: baseURL + "/v1/auth/login", Header: jsonHeader, Body: bodies[i]}
	})
}
