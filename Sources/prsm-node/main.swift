import PRSMNode
import ArgumentParser
import ServiceLifecycle
print("x")
