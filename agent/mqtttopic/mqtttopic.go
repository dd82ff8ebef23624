// Package mqtttopic owns the MQTT topic tree shared by kiosks and the township
// (docs/mqtt.md). Every topic is built here so that the publisher, the township
// tools and the broker ACLs cannot drift apart.
//
// Each kiosk owns one subtree, fengqiao/v1/{township}/{kiosk}/..., which lets a
// broker ACL grant a kiosk exactly its own subtree and lets the township
// subscribe to all of its villages with one wildcard.
package mqtttopic

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
