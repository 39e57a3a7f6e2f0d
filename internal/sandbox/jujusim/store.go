package jujusim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"mirrormaker-k8s/hooks/hookstest"
)

// ModelEnv names the environment variable through which hook tools find
// the model file; the lock file sits next to it.
const ModelEnv = "SANDBOX_MODEL"

// modelStore keeps the simulated Juju model as a JSON file shared by the
// simulator and every hook tool process. Hooks of several units run at
// once, so every read-modify-write holds an exclusive flock.
type modelStore struct {
	path string
}

// fileLock is an flock held on an open lock file.
type fileLock struct{ f *os.File }

// lockFile takes an exclusive flock on path, polling until ctx ends. flock
// locks belong to the open file, so two locks in one process exclude each
// other too.
func lockFile(ctx context.Context, path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open lock: %w", err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &fileLock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

func (l *fileLock) unlock() { l.f.Close() }

// update runs fn on the model under the lock and saves the result unless fn
// fails.
func (s modelStore) update(ctx context.Context, fn func(m *hookstest.Model) error) error {
	lock, err := lockFile(ctx, s.path+".lock")
	if err != nil {
		return err
	}
	defer lock.unlock()
	m, err := s.load()
	if err != nil {
		return err
	}
	if err := fn(m); err != nil {
		return err
	}
	return s.save(m)
}

// read returns a consistent snapshot of the model.
func (s modelStore) read(ctx context.Context) (*hookstest.Model, error) {
	var out *hookstest.Model
	err := s.update(ctx, func(m *hookstest.Model) error { out = m; return errSkipSave })
	if errors.Is(err, errSkipSave) {
		err = nil
	}
	return out, err
}

var errSkipSave = errors.New("skip save")

func (s modelStore) load() (*hookstest.Model, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	m := &hookstest.Model{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("cannot parse model %s: %w", s.path, err)
	}
	return m, nil
}

// save writes the model atomically (temp file + rename), 0600: it holds
// secret content and relation data with passwords.
func (s modelStore) save(m *hookstest.Model) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode model: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".model-*.json")
	if err != nil {
		return fmt.Errorf("cannot save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot save model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot save model: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("cannot save model: %w", err)
	}
	return nil
}
