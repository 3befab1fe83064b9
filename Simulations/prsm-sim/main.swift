import PRSMSim
print("x")
