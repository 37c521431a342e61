package comet

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goimx/goim/protocol"
)

// TestConfigDefaults: zero fields take the documented defaults, negative
// values mean "off" where a field says so and are refused elsewhere.
func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		NodeID: c.NodeID, Weight: DefaultWeight, Buckets: DefaultBuckets, RoomWorkers: DefaultRoomWorkers,
		RoomQueue: DefaultRoomQueue, TimerShards: powerOfTwo(runtime.GOMAXPROCS(0)), MaxBody: protocol.DefaultMaxBody,
		HandshakeTimeout: DefaultHandshakeTimeout, HeartbeatTimeout: DefaultHeartbeatTimeout,
		RenewInterval: DefaultRenewInterval, SendQueueBytes: DefaultSendQueueBytes, WriteTimeout: DefaultWriteTimeout,
		LogicTimeout: DefaultLogicTimeout, ReportInterval: DefaultReportInterval, WSPath: DefaultWSPath,
		WSMaxMessage:  protocol.HeaderLen + protocol.DefaultMaxBody,
		MaxConnsPerIP: DefaultMaxConnsPerIP, AuthRatePerIP: DefaultAuthRatePerIP, MsgRate: DefaultMsgRate,
		MaxRooms:      DefaultMaxRooms,
		ReadPollers:   (runtime.GOMAXPROCS(0) + 3) / 4,
		DrainDuration: DefaultDrainDuration,
	}
	if c.NodeID == "" || !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}

	off, err := Config{RenewInterval: -1, ReportInterval: -time.Second}.withDefaults()
	if err != nil || off.RenewInterval != -1 || off.ReportInterval != -time.Second {
		t.Errorf("negative RenewInterval, ReportInterval: %v, %v, %v; want kept (off)", off.RenewInterval, off.ReportInterval, err)
	}

	for _, tt := range []struct {
		cfg   Config
		field string
	}{
		{Config{Weight: -1}, "Weight"},
		{Config{Buckets: -1}, "Buckets"},
		{Config{RoomWorkers: -1}, "RoomWorkers"},
		{Config{RoomQueue: -1}, "RoomQueue"},
		{Config{TimerShards: -1}, "TimerShards"},
		{Config{MaxBody: -1}, "MaxBody"},
		{Config{HandshakeTimeout: -1}, "HandshakeTimeout"},
		{Config{HeartbeatTimeout: -1}, "HeartbeatTimeout"},
		{Config{SendQueue: -1}, "SendQueue"},
		{Config{WriteTimeout: -1}, "WriteTimeout"},
		{Config{LogicTimeout: -1}, "LogicTimeout"},
		{Config{WSMaxMessage: -1}, "WSMaxMessage"},
	} {
		_, err := New(tt.cfg, &fakeLogic{}, nil)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("New with negative %s: %v, want ErrConfig naming it", tt.field, err)
		}
	}
}
