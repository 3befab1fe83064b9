@_exported import PRSMCore
