// The peers make bench measures our servers against beside the stdlib's:
// event-loop echo servers from other libraries. A module of their own, so
// that their dependencies stay out of the main module; make bench builds
// them when it can, and leaves their columns empty when it cannot.
module github.com/echospec/echo/impl/cmd/echobench/peers

go 1.25.0

require github.com/panjf2000/gnet/v2 v2.9.7

require (
	github.com/panjf2000/ants/v2 v2.11.3 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.27.0 // indirect
	golang.org/x/sync v0.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)
