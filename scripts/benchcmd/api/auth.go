package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hometime-edu/hometime/scripts/benchkit"
)

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

func loginBody(email string) []byte {
	b, _ := json.Marshal(map[string]string{"email": email, "password": benchPassword})
	return b
}

// signIn signs each family in, conns at a time, and returns their access
// tokens in the same order.
func signIn(ctx context.Context, baseURL string, fams []family, conns int) ([]string, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	tokens := make([]string, len(fams))
	errs := make([]error, len(fams))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(fams) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				tokens[i], errs[i] = login(ctx, client, baseURL, fams[i].email)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("sign in parent %s: %w", fams[i].parentID, err)
		}
	}
	return tokens, ctx.Err()
}

func login(ctx context.Context, client *http.Client, baseURL, email string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/auth/login", bytes.NewReader(loginBody(email)))
	if err != nil {
		return "", err
	}
	req.Header = jsonHeader.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read login response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: status %d: %s", resp.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("login: no access token in the answer (%v)", err)
	}
	return tok.AccessToken, nil
}

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
		bodies[i] = loginBody(f.email)
	}
	var next atomic.Int64
	load := benchkit.Closed{Workers: conns, Count: int64(len(fams))}
	return load.RunHTTP(ctx, func(int, int64) benchkit.Request {
		i := (next.Add(1) - 1) % int64(len(bodies))
		return benchkit.Request{Method: http.MethodPost, URL: baseURL + "/v1/auth/login", Header: jsonHeader, Body: bodies[i]}
	})
}
