module github.com/taskservice/taskservice/gen/go

go 1.22

require (
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)
