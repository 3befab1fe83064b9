@_exported import PRSMWire
