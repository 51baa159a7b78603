package helper

// windows: Windows has no Unix modes; the user's profile directories are
// private by their ACLs.
const windows = true
