package benchapi

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
)

// LoginBody is the JSON body of a sign-in.
func LoginBody(email, password string) []byte {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return b
}

// SignIn signs each account in, conns at a time, and returns their access
// tokens in the same order.
func (s *Server) SignIn(ctx context.Context, emails []string, password string, conns int) ([]string, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	tokens := make([]string, len(emails))
	errs := make([]error, len(emails))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(emails) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				tokens[i], errs[i] = s.Login(ctx, client, emails[i], password)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("sign in account %d: %w", i, err)
		}
	}
	return tokens, ctx.Err()
}

// Login signs one account in and returns its access token.
func (s *Server) Login(ctx context.Context, client *http.Client, email, password string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/v1/auth/login",
		bytes.NewReader(LoginBody(email, password)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
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
		return "", fmt.Errorf("login: status %d", resp.StatusCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("login: no access token in the answer (%v)", err)
	}
	return tok.AccessToken, nil
}
