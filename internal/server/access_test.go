package server

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// Every RPC of the contract must have a decided rule: the interceptor denies what the table
// lacks, so a forgotten entry would silently lock users out of a new method.
func TestEveryMethodHasAnAccessRule(t *testing.T) {
	rules := accessRules()
	seen := 0
	for _, desc := range []struct {
		name    string
		methods []string
	}{
		{seleksiv1.SelectionService_ServiceDesc.ServiceName, methodNames(seleksiv1.SelectionService_ServiceDesc)},
		{seleksiv1.ApplicationService_ServiceDesc.ServiceName, methodNames(seleksiv1.ApplicationService_ServiceDesc)},
		{seleksiv1.AuditService_ServiceDesc.ServiceName, methodNames(seleksiv1.AuditService_ServiceDesc)},
		{seleksiv1.NotificationService_ServiceDesc.ServiceName, methodNames(seleksiv1.NotificationService_ServiceDesc)},
		{seleksiv1.DocumentService_ServiceDesc.ServiceName, methodNames(seleksiv1.DocumentService_ServiceDesc)},
		{seleksiv1.OfficialDocumentService_ServiceDesc.ServiceName, methodNames(seleksiv1.OfficialDocumentService_ServiceDesc)},
		{seleksiv1.ScheduleService_ServiceDesc.ServiceName, methodNames(seleksiv1.ScheduleService_ServiceDesc)},
		{seleksiv1.AttendanceService_ServiceDesc.ServiceName, methodNames(seleksiv1.AttendanceService_ServiceDesc)},
		{seleksiv1.ReportService_ServiceDesc.ServiceName, methodNames(seleksiv1.ReportService_ServiceDesc)},
	} {
		for _, m := range desc.methods {
			full := "/" + desc.name + "/" + m
			rule, ok := rules[full]
			if !ok {
				t.Errorf("%s has no access rule", full)
				continue
			}
			if !rule.public && len(rule.roles) == 0 {
				t.Errorf("%s is open to no role", full)
			}
			seen++
		}
	}
	if seen != len(rules) {
		t.Errorf("access table has %d rules for %d methods: a rule names a method that does not exist", len(rules), seen)
	}
}

// methodNames lists a service's unary and streaming methods.
func methodNames(d grpc.ServiceDesc) []string {
	out := make([]string, 0, len(d.Methods)+len(d.Streams))
	for _, m := range d.Methods {
		out = append(out, m.MethodName)
	}
	for _, s := range d.Streams {
		out = append(out, s.StreamName)
	}
	return out
}

func TestSelectionOf(t *testing.T) {
	tests := []struct {
		msg  proto.Message
		want string
	}{
		{&seleksiv1.GetSelectionRequest{Name: "selections/kadis-2026"}, "kadis-2026"},
		{&seleksiv1.ListApplicationsRequest{Parent: "selections/kadis-2026"}, "kadis-2026"},
		{&seleksiv1.AnswerObjectionRequest{Name: "selections/kadis-2026/applications/a1/objections/o1"}, "kadis-2026"},
		{&seleksiv1.ListSelectionsRequest{}, ""},
		{&seleksiv1.GetSigningKeyRequest{}, ""},
	}
	for _, tt := range tests {
		if got := selectionOf(tt.msg); got != tt.want {
			t.Errorf("selectionOf(%T) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
