package logic

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CometAppID is the appid of comet instances in /nodes/instances.
const CometAppID = "goim.comet"

// Instance is one comet of /nodes/instances, in the shape of goim's
// discovery instances.
type Instance struct {
	Region          string           `json:"region"`
	Zone            string           `json:"zone"`
	Env             string           `json:"env"`
	AppID           string           `json:"appid"`
	Hostname        string           `json:"hostname"`
	Addrs           []string         `json:"addrs"` // "rpc://host:port" of the comet's RPC service
	Version         string           `json:"version"`
	LatestTimestamp int64            `json:"latest_timestamp"` // unix nanoseconds of the last report
	Metadata        InstanceMetadata `json:"metadata"`
}

// InstanceMetadata is an Instance's metadata; as in goim every value is a
// string.
type InstanceMetadata struct {
	Addrs     string `json:"addrs,omitempty"` // client addresses, comma-separated; omitted when the comet has none (no -addrs)
	ConnCount string `json:"conn_count"`
	IPCount   string `json:"ip_count"`
	Offline   string `json:"offline"` // "true" or "false"
	Weight    string `json:"weight"`
}

// instances returns the live comets (offline ones included) sorted by id.
func (r *registry) instances(now time.Time) []Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(now)
	out := make([]Instance, 0, len(r.comets))
	for _, id := range slices.Sorted(maps.Keys(r.comets)) {
		e := r.comets[id]
		n := &e.info
		addrs := []string{}
		if n.RPCAddr != "" {
			addrs = append(addrs, "rpc://"+n.RPCAddr)
		}
		out = append(out, Instance{
			Region:          n.Region,
			Zone:            n.Zone,
			Env:             n.Env,
			AppID:           CometAppID,
			Hostname:        hostOf(n),
			Addrs:           addrs,
			Version:         n.Version,
			LatestTimestamp: e.seen.Load(),
			Metadata: InstanceMetadata{
				Addrs:     strings.Join(n.Addrs, ","),
				ConnCount: strconv.Itoa(int(n.ConnCount)),
				IPCount:   strconv.Itoa(int(n.IPCount)),
				Offline:   strconv.FormatBool(n.Offline),
				Weight:    strconv.Itoa(int(n.Weight)),
			},
		})
	}
	return out
}
