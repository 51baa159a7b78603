package clouds

// oNonblock: Windows has no named pipes in the file system.
const oNonblock = 0
