import PRSMNode
import NIOPosix
