"""fpga"""
