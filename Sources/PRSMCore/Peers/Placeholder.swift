enum _Placeholder {}
import PRSMWire
