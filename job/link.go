package job

import "github.com/goimx/goim/rpc"

// rpcLinked is implemented by services reached over the RPC
// (cometrpc.Client).
type rpcLinked interface{ RPC() *rpc.Client }

// linkUp reports whether svc's RPC connection is up; a service in process
// (no RPC client) is always up.
func linkUp(svc any) bool {
	if l, ok := svc.(rpcLinked); ok {
		return l.RPC().Stats().Connected
	}
	return true
}
