// Package mqtttopic owns the MQTT topic tree shared by kiosks and the township
// (docs/mqtt.md). Every topic is built here so that the publisher, the township
// tools and the broker ACLs cannot drift apart.
//
// Each kiosk owns one subtree, fengqiao/v1/{township}/{kiosk}/..., which lets a
// broker ACL grant a kiosk exactly its own subtree and lets the township
// subscribe to all of its villages with one wildcard.
package mqtttopic

import "strconv"

// Version is the topic-tree version; a breaking change to topics or payloads
// gets a new one, and both trees are served while kiosks migrate.
const Version = "v1"

// Root is the first level of every Fengqiao topic.
const Root = "fengqiao/" + Version

// Kiosk returns the subtree of one kiosk.
func Kiosk(township, kiosk string) string {
	return Root + "/" + township + "/" + kiosk
}

// Record is where a kiosk publishes records of one type (QoS 1, not retained).
func Record(township, kiosk, recordType string) string {
	return Kiosk(township, kiosk) + "/records/" + recordType
}

// Status is the kiosk's retained presence topic; its last will says offline.
func Status(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/status"
}

// Records subscribes to every record of one township, or of all townships when
// township is empty.
func Records(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/records/#"
}

// Statuses subscribes to the status of every kiosk of a township (or all).
func Statuses(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/status"
}

// TownshipLevel stands where a kiosk id would for what is addressed to a
// whole township. Kiosk ids cannot contain '_' (agent/config), so it never
// names a kiosk.
const TownshipLevel = "_township"

// ConfigSet is a kiosk's retained configuration topic: the latest signed
// bundle addressed to that kiosk alone (docs/bundles.md). Township IT
// publishes; the kiosk only reads.
func ConfigSet(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/config/set"
}

// ConfigReported is a kiosk's retained reported state: the version of the
// last bundle it handled and whether it was applied, rejected or rolled back.
func ConfigReported(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/config/reported"
}

// TownshipConfig is the retained bundle addressed to every kiosk of a
// township.
func TownshipConfig(township string) string {
	return Root + "/" + township + "/" + TownshipLevel + "/config/set"
}

// TownshipKey is the retained key-rotation bundle of a township. It has a
// topic of its own so that the next configuration bundle does not replace
// it: a kiosk that was offline during a rotation still learns the new key.
func TownshipKey(township string) string {
	return Root + "/" + township + "/" + TownshipLevel + "/config/key"
}

// ConfigReports subscribes to the reported state of every kiosk of a
// township (or of all townships when township is empty).
func ConfigReports(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/config/reported"
}

// UpdateSet is a kiosk's retained update topic: the latest signed update
// bundle (kind "update", docs/updates.md) addressed to that kiosk alone, as
// a staged rollout's pilot gets it. Updates have topics of their own so that
// the next site bundle does not replace a pending update, nor the other way
// round.
func UpdateSet(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/update/set"
}

// UpdateReported is a kiosk's retained update state, beside
// ConfigReported: pending, downloading, waiting for its window, installed
// or rolled back, and why.
func UpdateReported(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/update/reported"
}

// TownshipUpdate is the retained update bundle addressed to every kiosk of
// a township: the widened rollout.
func TownshipUpdate(township string) string {
	return Root + "/" + township + "/" + TownshipLevel + "/update/set"
}

// UpdateReports subscribes to the update state of every kiosk of a
// township (or of all townships when township is empty).
func UpdateReports(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/update/reported"
}

// RequestStatus is where the township's latest answer to one request of a
// kiosk is retained (a request-status bundle, docs/requests.md): number is
// the request's number on that kiosk (its record's seq, in decimal
// without leading zeros). One retained message per request, so a kiosk
// back after days offline receives the latest answer to each of its
// requests, and an answer never replaces another request's. The township
// publishes; the kiosk only reads.
func RequestStatus(township, kiosk string, number uint64) string {
	return Kiosk(township, kiosk) + "/requests/" + strconv.FormatUint(number, 10) + "/status"
}

// RequestStatuses subscribes to the answers to every request of a kiosk.
func RequestStatuses(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/requests/+/status"
}

// RequestsReported is a kiosk's retained report on the township's
// answers: the version in force per request, and the answers it refused
// and why.
func RequestsReported(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/requests/reported"
}

// RequestsReports subscribes to the answer reports of every kiosk of a
// township (or of all townships when township is empty).
func RequestsReports(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/requests/reported"
}

// RequestRecords subscribes to the request/v1 records of every kiosk of a
// township (or of all townships when township is empty).
func RequestRecords(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/records/request"
}

// PointsLedger is a kiosk's retained points topic: the latest signed
// points-ledger bundle of its village (docs/points.md). Per kiosk, not per
// township: each village has its own ledger, and a kiosk must not receive
// (nor the broker's ACL let it read) another village's. The township
// publishes; the kiosk only reads.
func PointsLedger(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/points/ledger"
}

// PointsReported is a kiosk's retained report on its points ledger: the
// version in force and the ledgers it refused lately, and why.
func PointsReported(township, kiosk string) string {
	return Kiosk(township, kiosk) + "/points/reported"
}

// PointsReports subscribes to the points reports of every kiosk of a
// township (or of all townships when township is empty).
func PointsReports(township string) string {
	if township == "" {
		township = "+"
	}
	return Root + "/" + township + "/+/points/reported"
}
