import PRSMNode
